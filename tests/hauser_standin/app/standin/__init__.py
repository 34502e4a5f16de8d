"""A test stand-in for FullStory's hauser 1.5.1: it loads and checks a config like hauser does,
then runs hauser's export loop against a FullStory API on loopback (and no other host: see
network.py). Not FullStory's hauser."""
