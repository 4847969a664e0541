# Transfer and files on the host: verified downloads, model format checks, atomic writes, the host lock, .env edits.
