// The server configuration (filled in below).
