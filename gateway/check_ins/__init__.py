"""Check-in (QĐ 4750): the record that tells the BHYT portal an insured visit has started, sent through an outbox."""
