"""The organiser area for registrations (`/beheer/`): the programme overview and activity page
(views), attendee lists and exports, messages, extra questions, the member roster, invitations
and scanner devices; its URLs are mounted by jubileum/urls.py."""
