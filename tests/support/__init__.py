"""Helpers shared by test modules: real servers (HTTP, SMTP), job runners, staff sign-in."""
