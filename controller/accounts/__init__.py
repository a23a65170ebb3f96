"""Accounts of the controller page: users, roles and permissions, passwords, sessions, login limits."""
