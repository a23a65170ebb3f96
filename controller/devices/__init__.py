"""Door units: their health and alarms, their heartbeats, and the commands the controller sends them."""
