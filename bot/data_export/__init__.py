"""The client's data as a file (Art. 20 GDPR), behind the short-lived link the chat hands out
for "Meine Daten" (``bot/domain/my_data.py``)."""
