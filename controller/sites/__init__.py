"""Satellite sites: where each delegate attends, each site's link to the central venue, attendance and
quorum across sites (docs/multi-site.md)."""
