"""Domain logic: pure functions and values, no Flask, no database."""
