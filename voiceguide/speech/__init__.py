"""Speech engines behind small protocols: recognisers, speakers, audio sources."""
