"""Keys the processes a test starts are given (they run as in production, where
PRE_DECLARATION_KEYS is required)."""

PRE_DECLARATION_KEY = "P-OZIUZ5a-1PsFYwPGzJqRIBqxwd9Oe8XKsJ0igJRK8="
