"""The lab head's office (lab_head): its home page; the area's screens are built on it next (issue 14)."""

from gateway.screens.pages import home_only_area

blp = home_only_area("lab")
