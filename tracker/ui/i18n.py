"""The UI's two languages. Messages are keyed by their English text; French translates them
(a missing entry shows the English). The language comes from the ``tt_lang`` cookie the
switch sets, else from the browser's Accept-Language, else English."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

LANG_COOKIE = "tt_lang"
LANGUAGES = {"en": "English", "fr": "Français"}

FRENCH = {
    "Index": "Accueil",
    "Logs": "Journaux",
    "Projects": "Projets",
    "Workers": "Workers",
    "New project": "Nouveau projet",
    "Console": "Console",
    "Managers": "Gestionnaires",
    "Login": "Connexion",
    "Account": "Compte",
    "Events": "Événements",
    "Audit": "Audit",
    "Task history": "Historique de tâche",
    "Log in": "Se connecter",
    "Log out": "Se déconnecter",
    "Register": "Créer un compte",
    "Username": "Nom d'utilisateur",
    "Password": "Mot de passe",
    "Repeat password": "Répéter le mot de passe",
    "Language": "Langue",
    "Registered": "Inscrit le",
    "Tracker admin": "Administrateur",
    "Name": "Nom",
    "Message of the day": "Message du jour",
    "Clone URL": "URL de clonage",
    "Version": "Version",
    "Git repository": "Dépôt git",
    "Chain": "Chaîne",
    "None": "Aucune",
    "Assign rate": "Débit d'attribution",
    "Submit rate": "Débit de soumission",
    "Public": "Public",
    "Hidden": "Caché",
    "Private": "Privé",
    "Paused": "En pause",
    "Priority": "Priorité",
    "Create": "Créer",
    "Save": "Enregistrer",
    "Cancel": "Annuler",
    "Dashboard": "Tableau de bord",
    "Edit": "Modifier",
    "Permissions": "Permissions",
    "Secrets": "Secrets",
    "Tasks per second": "Tâches par seconde",
    "ETA": "Temps restant estimé",
    "Timeline": "Chronologie",
    "Current task status": "État actuel des tâches",
    "Task assignment": "Attribution des tâches",
    "No tasks": "Aucune tâche",
    "New": "Nouvelles",
    "Failed": "Échouées",
    "Closed": "Terminées",
    "First events": "Premiers événements",
    "Later events": "Événements suivants",
    "Awaiting verification": "En attente de vérification",
    "Actions": "Actions",
    "Reset failed tasks": "Réinitialiser les tâches échouées",
    "Pause": "Mettre en pause",
    "Resume": "Reprendre",
    "Hard reset": "Réinitialisation complète",
    "Reclaim assigned tasks": "Récupérer les tâches attribuées",
    "Are you sure?": "Êtes-vous sûr ?",
    "Confirm": "Confirmer",
    "Accept": "Accepter",
    "Deny": "Refuser",
    "Remove": "Retirer",
    "Pending": "En attente",
    "Read": "Lecture",
    "Manage permissions": "Gérer les permissions",
    "Configure secrets": "Configurer les secrets",
    "Add manager": "Ajouter un gestionnaire",
    "Update": "Mettre à jour",
    "Project secret": "Secret du projet",
    "Webhook secret": "Secret du webhook",
    "Info": "Infos",
    "Promote": "Promouvoir",
    "Demote": "Rétrograder",
    "Submit task": "Soumettre la tâche",
    "Manual task submit": "Soumission manuelle de tâche",
    "Recipe": "Recette",
    "Unique string": "Chaîne unique",
    "Max assign time": "Durée maximale d'attribution",
    "Verification count": "Nombre de vérifications",
    "Max retries": "Nombre maximal de tentatives",
    "Worker": "Worker",
    "Project": "Projet",
    "Level": "Niveau",
    "Time": "Heure",
    "Message": "Message",
    "Details": "Détails",
    "Next page": "Page suivante",
    "Previous page": "Page précédente",
    "Show": "Afficher",
    "Search": "Rechercher",
    "Task id": "Identifiant de tâche",
    "Time travel": "Voyage dans le temps",
    "Position or time": "Position ou heure",
    "Now": "Maintenant",
    "Event type": "Type d'événement",
    "Filter": "Filtrer",
    "Verify the chain": "Vérifier la chaîne",
    "Head position": "Position de tête",
    "Head hash": "Hash de tête",
    "Last verification": "Dernière vérification",
    "Not found": "Introuvable",
    "Refused": "Refusé",
    "Get started": "Bien démarrer",
    "Closed tasks per worker": "Tâches terminées par worker",
    "Manage workers": "Gérer les workers",
    "Saved": "Enregistré",
    "Queued": "En file",
    "Assigned": "Attribuées",
    "Access": "Accès",
    "Created": "Créé le",
    "Task": "Tâche",
    "live": "en direct",
    "Since (Unix time)": "Depuis (heure Unix)",
    "No project yet.": "Aucun projet pour l'instant.",
    "Create the first one": "Créer le premier",
    "Log in to create one": "Se connecter pour en créer un",
    "Maintenance": "Maintenance",
    "Every task of this project will be deleted. This cannot be undone.": "Toutes les tâches de ce projet seront supprimées. C'est irréversible.",  # noqa: E501
    "Every failed task goes back to the queue.": "Chaque tâche échouée retourne dans la file.",
    "Every assigned task is taken back from its worker and queued again.": "Chaque tâche attribuée est reprise à son worker et remise dans la file.",  # noqa: E501
    "Logged in": "Connecté",
    "Logged out": "Déconnecté",
    "Account created": "Compte créé",
    "Worker paused": "Worker mis en pause",
    "Worker resumed": "Worker relancé",
    "Project created": "Projet créé",
    "Access granted": "Accès accordé",
    "Access removed": "Accès retiré",
    "Task submitted": "Tâche soumise",
    # actions on tasks (tracker/ui/views/task_actions.py)
    "Retry": "Relancer",
    "Take back": "Reprendre",
    "Set priority": "Changer la priorité",
    "Back": "Retour",
    "No task to act on.": "Aucune tâche à traiter.",
    "{n} failed tasks go back to the queue now, their attempts counted from zero.": "{n} tâches échouées retournent dans la file dès maintenant, leurs tentatives comptées de zéro.",  # noqa: E501
    "{n} queued tasks will be deleted. This cannot be undone.": "{n} tâches en file seront supprimées. C'est irréversible.",  # noqa: E501
    "{n} queued tasks will wait at priority {priority}.": "{n} tâches en file attendront avec la priorité {priority}.",  # noqa: E501
    "{n} assigned tasks are taken back from their workers and queued again.": "{n} tâches attribuées sont reprises à leurs workers et remises dans la file.",  # noqa: E501
    "Tasks retried: {n}": "Tâches relancées : {n}",
    "Tasks cancelled: {n}": "Tâches annulées : {n}",
    "Priorities changed: {n}": "Priorités changées : {n}",
    "Tasks taken back: {n}": "Tâches reprises : {n}",
    "skipped: {n}": "ignorées : {n}",
    "Selected tasks": "Tâches cochées",
    "Every task matching the filter": "Toutes les tâches qui correspondent au filtre",
    "Continue": "Continuer",
    "Action": "Action",
    "Retry failed tasks": "Relancer des tâches échouées",
    "Cancel queued tasks": "Annuler des tâches en file",
    "Change the priority of queued tasks": "Changer la priorité de tâches en file",
    "Take back assigned tasks": "Reprendre des tâches attribuées",
    "Cancelled by a manager": "Annulée par un gestionnaire",
    "Unknown action: choose one of retry, cancel, priority, take_back": "Action inconnue : choisir parmi retry, cancel, priority, take_back",  # noqa: E501
    "Priority changed by a manager": "Priorité changée par un gestionnaire",
}

# The task browser and the attempts of a task (kept apart: the lists grow in separate work).
FRENCH_TASKS = {
    "Tasks": "Tâches",
    "State": "État",
    "Every live task": "Toutes les tâches en cours",
    "Recipe contains": "La recette contient",
    "Priority from": "Priorité de",
    "to": "à",
    "Submitted from": "Soumises du",
    "Sort": "Tri",
    "Clear": "Effacer",
    "Select": "Sélectionner",
    "Priority": "Priorité",
    "Recipe": "Recette",
    "Attempts": "Tentatives",
    "Retries": "Échecs",
    "Submitted": "Soumise le",
    "Last failure reason": "Raison du dernier échec",
    "First page": "Première page",
    "Oldest first": "Les plus anciennes d'abord",
    "Newest first": "Les plus récentes d'abord",
    "Highest priority first": "Priorité la plus haute d'abord",
    "No task matches these filters.": "Aucune tâche ne correspond à ces filtres.",
    "No match in this stretch of the project yet: continue searching.":
        "Aucune correspondance dans cette partie du projet : poursuivre la recherche.",
    "A page searches at most 250,000 tasks; more may match further on.":
        "Une page parcourt au plus 250 000 tâches ; d'autres peuvent correspondre plus loin.",
    "Closed tasks: the project's last 1,000 are listed; every task's history stays in the log "
    "(Task history).": "Tâches terminées : les 1 000 dernières du projet sont listées ; "
    "l'historique de chaque tâche reste dans le journal (Historique de tâche).",
    "Ended": "Terminée le",
    "How": "Issue",
    "Reason": "Raison",
    "in progress": "en cours",
    "released": "rendue",
    "expired": "expirée",
    "taken back": "reprise",
    "deleted": "supprimée",
    "closed": "terminée",
    "voted": "vote enregistré",
    "retry": "à réessayer",
    "failed": "en échec",
    "skipped": "passée",
}  # fmt: skip

CATALOGUES = {"en": {}, "fr": {**FRENCH, **FRENCH_TASKS}}


def language(request: web.Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(request.headers.get("Accept-Language", ""))


def from_accept_language(header: str) -> str:
    """The supported language the header ranks highest (English if none)."""
    best, best_q = "en", 0.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower()[:2]
        if code in LANGUAGES and q > best_q:
            best, best_q = code, q
    return best


def translator(lang: str) -> Callable[[str], str]:
    catalogue = CATALOGUES.get(lang, {})
    return lambda text: catalogue.get(text, text)
