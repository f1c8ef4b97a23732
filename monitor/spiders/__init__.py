"""newsmon spiders: sources in, article responses out."""
