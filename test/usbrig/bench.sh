echo bench: todo
