"""Videoberatung-Bot: the service, Teams plumbing, storage and notifications."""
