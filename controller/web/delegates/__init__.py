"""Views of the delegates area: roster, CSV import, badge sheet."""
