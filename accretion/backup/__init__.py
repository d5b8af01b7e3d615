"""Backing up and restoring the whole portal: the database and the uploaded files, verified both ways."""
