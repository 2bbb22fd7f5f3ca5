"""HTTP views, one blueprint per area. Views talk to services, never to Redis or HTTP clients."""
