"""One module per file format (Postman environment/globals, collection, HAR, dotenv …), shared by inject, guard and import."""
