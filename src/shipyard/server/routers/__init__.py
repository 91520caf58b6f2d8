"""One router per resource of the team server's REST API."""
