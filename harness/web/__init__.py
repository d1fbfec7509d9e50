"""The web app (`toughtalk serve`) and the pieces the shared report reuses: run
directories read in place (`library`), page data (`views`), templates (`render`), practice
chats (`practice`) and who may connect (`access`)."""
