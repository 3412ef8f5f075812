"""Finding patients at the desk: by CCCD, by name (accent-insensitive prefix), by phone, by BHYT card number.

Names are matched on a folded copy kept beside the name (`patient.search_name`): lower case, Vietnamese tone and
vowel marks removed, đ -> d, anything that is not a letter or digit turned into one space. "nguyen van an",
"NGUYEN VAN AN" and "Nguyễn  Văn An" all fold to "nguyen van an". A name query matches the start of the whole
name ("nguyen van" finds Nguyễn Văn An) or the start of any later word of it ("an", "van an": people are often
known by their given name).
"""

import re
import unicodedata

from common.paging import page
from gateway.models import Coverage, Patient

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Return the search form of a name: no accents, đ -> d, lower case, words separated by one space."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(character for character in decomposed if not unicodedata.combining(character))
    return _NOT_WORD.sub(" ", bare.casefold()).strip()


def national_phone(phone: str) -> str:
    """Return a Vietnamese phone number in its national form: +84912345678 -> 0912345678."""
    digits = phone.strip().replace(" ", "").replace(".", "").replace("-", "")
    return "0" + digits[3:] if digits.startswith("+84") else digits


def find_patients(query: dict) -> list[Patient]:
    """Return one page of the patients matching the query's one criterion, newest registration first."""
    selection = Patient.select()
    if query.get("cccd"):
        selection = selection.where(Patient.cccd == query["cccd"])
    elif query.get("name"):
        folded = fold(query["name"])
        selection = selection.where(Patient.search_name.startswith(folded)
                                    | Patient.search_name.contains(f" {folded}"))
    elif query.get("phone"):
        national = national_phone(query["phone"])
        selection = selection.where(Patient.phone.in_((national, "+84" + national[1:])))
    else:
        card = query["card"].upper()
        holders = Coverage.select(Coverage.patient).where(
            (Coverage.card_number == card) if len(card) == 15 else (Coverage.insurance_number == card))
        selection = selection.where(Patient.id.in_(holders))
    return page(selection, Patient.id, query)
