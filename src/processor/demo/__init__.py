"""The demo scenario (`processor demo`): its cast, data, breach and retention acts."""
