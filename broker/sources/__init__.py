"""Media from the app's own storage (`source_url`): opened over https only, every redirect
re-checked, each connection pinned to an address checked against private and metadata ranges."""
