"""Keys the processes a test starts are given (they run as in production, where
PRE_DECLARATION_KEYS is required)."""

PRE_DECLARATION_KEY = "P-OZIUZ5a-1PsFYwPGzJqRIBqxwd9Oe8XKsJ0igJRK8="
# 32 random bytes, as production requires (booking.keys).
SECRET_KEY = "7f3c9a1e5b2d8046c1f9e7a3d5b2c8e0a4f6d1b9c3e7a5f2d8b0c6e4a1f3d5b7"
