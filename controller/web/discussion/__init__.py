"""The synthesis of contributions on the controller page."""
