"""Development tools that work on the repository and never ship with the studio."""
