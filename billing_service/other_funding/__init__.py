"""Other funding (T_NGUONKHAC): amounts a programme, an aid donor, the state budget or the hospital pays on a line."""
