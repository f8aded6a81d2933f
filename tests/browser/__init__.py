"""Staff journeys through the real web app in Debian's chromium, driven by Playwright."""
