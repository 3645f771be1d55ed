"""The staff dashboard (issue 22): the hotel's day on one screen, served at /dashboard.

Server-rendered pages (Jinja2) with light interactivity (htmx, vendored in static/). The pages
call only the public API, through this same gateway (`api.Api`: in-process, with the signed-in
staff member's token and the browser's address), so the dashboard can do exactly what the
staff member could do with the API and nothing more. See docs/dashboard.md.
"""

from gateway.dashboard.routes import install

__all__ = ["install"]
