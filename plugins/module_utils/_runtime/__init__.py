# The turn check: load the tier's models with the agent's own engines (vosk, llama.cpp, piper), time a real turn, store it.
