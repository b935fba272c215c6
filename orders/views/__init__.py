"""The order desk's pages, one module per feature: :mod:`.dashboard`, :mod:`.list`, :mod:`.intake`,
:mod:`.detail` (the order page), :mod:`.desk`, :mod:`.track`, :mod:`.imports`. URLconfs import the
feature's module; nothing is re-exported here."""
