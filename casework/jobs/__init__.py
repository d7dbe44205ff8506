"""RQ job bodies: thin, take ids, call one service, safe to run twice.

They run inside the app context that `flask worker` pushes before it starts working.
"""
