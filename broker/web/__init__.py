"""What `create_app` installs around the views: security headers and CORS, the caller resolved
once per request (bearer), inbound rate limits, the route contract and OpenAPI, metrics, logs.

Nothing here knows a feature's rules; views sit above this package and features below it.
"""
