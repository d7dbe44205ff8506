"""Services: the only code that changes state. They take the acting user, flush, never commit."""
