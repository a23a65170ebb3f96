"""SD-card provisioning of door units."""
