"""The web app's views, one module per area; each view authorizes, parses, calls one query or
action and renders. ``leadbase.web.urls`` names them."""
