"""A test stand-in for FullStory's hauser 1.5.1: it loads and checks a config like hauser does,
then idles instead of exporting anything. Not FullStory's hauser."""
