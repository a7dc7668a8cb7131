"""Articles -> chunks -> embeddings -> FAISS. Imports nothing from the rest of Parley."""
