"""The UI's shell: base templates, static assets (vendored, with their licences), sign-in, the
dashboard, the roster list and a creator's page (pages that show every domain), staff and job
administration, and the Jinja filters every template uses. Server-rendered, htmx for small
updates. Each domain's own pages are in its views.py."""
