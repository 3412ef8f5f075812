"""Walking a cursor-paged list (common.paging) from its first page to its last, as a client does."""

from urllib.parse import urlencode


def walk_pages(client, path: str, headers: dict, page_size: int = 3, **query) -> list:
    """Follow X-Next-Cursor from the first page to the last; return every row in the order given, and check that
    each page but the last is full and that the Link header names the same next page."""
    rows, cursor, pages = [], None, 0
    while True:
        arguments = {**query, "limit": page_size, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"{path}?{urlencode(arguments)}", headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        found = body["entries"] if isinstance(body, dict) and "entries" in body else body
        rows += found
        pages += 1
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert len(found) <= page_size
            return rows
        assert len(found) == page_size and f"cursor={cursor}" in response.headers["Link"]
        assert pages < 1000, "the pages never end"
