"""Teams app package (manifest, localisation, icons) for the Videoberatung bot."""
