"""word2vec training (SGNS kernel, vocabulary) and word-vector evaluation."""
