"""Thin blueprints: parse, call one service, answer."""
