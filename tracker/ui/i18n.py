"""The UI's two languages. Messages are keyed by their English text; French translates them
(a missing entry shows the English). A message with values in it (``Deleted tasks: 3``, a
task history's ``Assigned to worker #7``) is matched by a pattern (``FRENCH_PATTERNS``), its
values kept, and translated too when they are messages themselves. The language comes from
the ``tt_lang`` cookie the switch sets, else from the browser's Accept-Language, else English.
``tests/ui/test_french.py`` walks every page in French and fails on English left."""

from __future__ import annotations

import re
from collections.abc import Callable

from aiohttp import web

LANG_COOKIE = "tt_lang"
LANGUAGES = {"en": "English", "fr": "Français"}

FRENCH = {
    "Index": "Accueil",
    "Logs": "Journaux",
    "Projects": "Projets",
    "Workers": "Travailleurs",
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
    "Tasks closed per second": "Tâches terminées par seconde",
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
    "Worker": "Travailleur",
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
    "Closed tasks per worker": "Tâches terminées par travailleur",
    "Manage workers": "Gérer les travailleurs",
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
    "Every assigned task is taken back from its worker and queued again.": "Chaque tâche attribuée est reprise à son travailleur et remise dans la file.",  # noqa: E501
    "Logged in": "Connecté",
    "Logged out": "Déconnecté",
    "Account created": "Compte créé",
    "Worker paused": "Travailleur mis en pause",
    "Worker resumed": "Travailleur relancé",
    "Project created": "Projet créé",
    "Access granted": "Accès accordé",
    "Access removed": "Accès retiré",
    "Task submitted": "Tâche soumise",
    # pages
    "Skip to content": "Aller au contenu",
    "A task tracker: workers pull tasks over HTTP; managers watch and steer projects here.": "Un gestionnaire de tâches : les travailleurs prennent leurs tâches par HTTP ; les gestionnaires suivent et pilotent les projets ici.",  # noqa: E501
    "The HTTP API is documented in the project's README; every action on these pages is the same API command.": "L'API HTTP est décrite dans le README du projet ; chaque action de ces pages est la même commande de l'API.",  # noqa: E501
    "Create a project.": "Créer un projet.",
    "or register: the first account is the tracker admin": "ou créer un compte : le premier compte est l'administrateur",  # noqa: E501
    "then open": "puis ouvrir",
    "Register a worker and request access.": "Inscrire un travailleur et demander l'accès.",
    "A worker creates itself and asks for access to the project:": "Un travailleur se crée lui-même et demande l'accès au projet :",  # noqa: E501
    "Accept the request on the project's page": "Accepter la demande sur la page du projet",
    "the worker can then submit with": "le travailleur peut alors soumettre avec",
    "take tasks with": "prendre des tâches avec",
    "and release them with": "et les rendre avec",
    "Point a GitHub or Gogs push webhook at": "Diriger un webhook « push » de GitHub ou Gogs vers",
    "with the project's webhook secret": "avec le secret de webhook du projet",
    "each push to the tracked branch sets": "chaque push sur la branche suivie fixe",
    ", which workers see in every assigned task.": ", que les travailleurs voient dans chaque tâche attribuée.",  # noqa: E501
    "tasks/s, 0 = unlimited": "tâches/s, 0 = illimité",
    "unlimited": "illimité",
    "owner/repo; from the clone URL if empty": "propriétaire/dépôt ; tiré de l'URL de clonage si vide",  # noqa: E501
    "tracker admins only": "administrateurs seulement",
    "only workers with ASSIGN access read it": "seuls les travailleurs ayant l'accès ASSIGN le lisent",  # noqa: E501
    "supply this to GitHub/Gogs": "à donner à GitHub/Gogs",
    "No worker has asked for access yet. A worker asks with": "Aucun travailleur n'a encore demandé l'accès. Un travailleur le demande avec",  # noqa: E501
    "; its request then appears here to accept.": " ; sa demande apparaît alors ici, à accepter.",
    "paused": "en pause",
    "submit": "soumission",
    "assign": "attribution",
    "No manager holds a role on this project yet: add one below.": "Aucun gestionnaire n'a encore de rôle sur ce projet : en ajouter un ci-dessous.",  # noqa: E501
    "Refresh": "Actualiser",
    "a log position, or an ISO time such as": "une position du journal, ou une heure ISO comme",
    "Log position": "Position dans le journal",
    "As of position": "À la position",
    "Assignees": "Attributaires",
    "The project did not exist yet at this position.": "Le projet n'existait pas encore à cette position.",  # noqa: E501
    "Project JSON": "JSON du projet",
    "No worker yet. Workers create themselves with": "Aucun travailleur pour l'instant. Les travailleurs se créent avec",  # noqa: E501
    "Alias": "Alias",
    "Worker id": "Identifiant du travailleur",
    "a worker with submit access": "un travailleur ayant l'accès en soumission",
    "Choose a level to see the worker log lines of the last seven days (workers write them with": "Choisir un niveau pour voir les lignes de journal des travailleurs des sept derniers jours (les travailleurs les écrivent avec",  # noqa: E501
    "No line of this level since": "Aucune ligne de ce niveau depuis le",
    "Fatal": "Fatale",
    "Panic": "Panique",
    "Error": "Erreur",
    "Warn": "Avertissement",
    "Debug": "Débogage",
    "Trace": "Trace",  # noqa: E501
    "State": "État",
    "Submitted": "Soumise",
    "Copied from": "Copiée de",
    "Chained to": "Enchaînée vers",
    "Enter a task id to see its whole story: submitted by whom, each assignment, each release, expiries, retries and its final state. The project dashboard links its latest tasks.": "Saisir un identifiant de tâche pour voir toute son histoire : qui l'a soumise, chaque attribution, chaque rendu, les expirations, les nouvelles tentatives et son état final. Le tableau de bord du projet donne un lien vers ses dernières tâches.",  # noqa: E501
    "queued": "en file",
    "assigned": "attribuée",
    "failed": "échouée",
    "closed": "terminée",
    "deleted": "supprimée",
    "voted": "vote enregistré",
    "retry": "nouvelle tentative",
    "skipped": "passée",  # noqa: E501
    "admin": "administrateur",
    "Keep the head position and hash somewhere else: given to": "Conserver ailleurs la position et le hash de tête : donnés plus tard à",  # noqa: E501
    "later, they prove nothing up to here changed.": ", ils prouvent que rien n'a changé jusqu'ici.",  # noqa: E501
    "Verifying the chain": "Vérification de la chaîne",
    "Verification progress": "Progression de la vérification",
    "Broken at position": "Rompue à la position",
    "Intact": "Intacte",
    "events checked in": "événements vérifiés en",
    "head": "tête",
    "Started": "Commencée le",
    "Not verified since the tracker started. The button walks the whole hash chain (the same check as": "Pas vérifiée depuis le démarrage. Le bouton parcourt toute la chaîne de hash (la même vérification que",  # noqa: E501
    "pages": "pages",
    # the dashboard's figures
    "Failure rate": "Taux d'échec",
    "over the last": "sur",
    "workers with submit access add them with": "les travailleurs ayant l'accès en soumission en ajoutent avec",  # noqa: E501
    "or use the console": "ou par la console",
    "last hour": "dernière heure",
    "7 days": "7 jours",
    "all kept": "tout l'historique",
    "(no alias)": "(sans alias)",
    "others": "autres",
    "unassigned": "non attribuées",
    # the Events page
    "The newest events first; the page keeps the last": "Les événements les plus récents d'abord ; la page garde les",  # noqa: E501
    "No event to show yet: new events appear here as they happen (only those of projects you may read).": "Aucun événement à afficher : les nouveaux apparaissent ici dès qu'ils arrivent (seulement ceux des projets que vous pouvez lire).",  # noqa: E501
    # messages
    "Verification started": "Vérification commencée",
    "Promoted": "Promu",
    "Demoted": "Rétrogradé",
    "Log in first": "Se connecter d'abord",
    "The form is too large": "Le formulaire est trop grand",
    "Something went wrong; it was logged": "Une erreur s'est produite ; elle a été journalisée",
    "Task not found": "Tâche introuvable",
    "Worker not found": "Travailleur introuvable",
    "Project not found": "Projet introuvable",
    "A project with this name already exists": "Un projet porte déjà ce nom",
    "You are not permitted to create a project with this configuration": "Vous ne pouvez pas créer de projet avec cette configuration",  # noqa: E501
    "The passwords differ": "Les mots de passe diffèrent",
    "Invalid username/password": "Nom d'utilisateur ou mot de passe invalide",
    "Unauthorized": "Non autorisé",
    "Invalid request": "Requête invalide",
    "Invalid register request": "Inscription invalide",
    "Invalid project": "Projet invalide",
    "Invalid task": "Tâche invalide",
    "Invalid worker": "Travailleur invalide",
    "Manager not found": "Gestionnaire introuvable",
    "This username is already taken": "Ce nom d'utilisateur est déjà pris",
    "Too many requests": "Trop de requêtes",
    "Busy, try again shortly": "Occupé, réessayer dans un instant",
    "Storage unavailable": "Stockage indisponible",
    "Request body too large": "Requête trop grande",
    "unauthorized task submit": "soumission de tâche non autorisée",
    "Worker did not have access to this project": "Le travailleur n'avait pas accès à ce projet",
    "Unauthorized (You need RoleEdit on the project you wish to chain tasks to)": "Non autorisé (il faut le rôle Modifier sur le projet vers lequel enchaîner les tâches)",  # noqa: E501
    "Unauthorized (only a tracker admin can make a project public)": "Non autorisé (seul un administrateur peut rendre un projet public)",  # noqa: E501
    "A live task of this project already has this hash (hash_u64 / unique_string)": "Une tâche active de ce projet a déjà ce hash (hash_u64 / unique_string)",  # noqa: E501
    "The audit page is for tracker admins": "La page d'audit est réservée aux administrateurs",
    "You need the Read role on this task's project": "Il faut le rôle Lecture sur le projet de cette tâche",  # noqa: E501
    "You need ROLE_MANAGE_ACCESS on this project": "Il faut le rôle Gérer les permissions sur ce projet",  # noqa: E501
    "You may not read this project": "Vous ne pouvez pas lire ce projet",
    "You need the Edit role on this project": "Il faut le rôle Modifier sur ce projet",
    "You need the Maintenance role on this project": "Il faut le rôle Maintenance sur ce projet",  # noqa: E501
    "Time travel needs the Read role on this project": "Le voyage dans le temps demande le rôle Lecture sur ce projet",  # noqa: E501
    "This form has expired or did not come from this site: reload the page and try again": "Ce formulaire a expiré ou ne vient pas de ce site : recharger la page et réessayer",  # noqa: E501
    "Could not parse request: at must be a log position (an integer), @<unix seconds> or an ISO 8601 time": "Requête illisible : at doit être une position du journal (un entier), @<secondes Unix> ou une heure ISO 8601",  # noqa: E501
    # a task's history
    "Taken back from its worker by a manager": "Reprise à son travailleur par un gestionnaire",
    "Failed task reset to new by a manager": "Tâche échouée remise à l'état nouveau par un gestionnaire",  # noqa: E501
    "Deleted by a hard reset of the project": "Supprimée par une réinitialisation complète du projet",  # noqa: E501
    "system": "système",
}

# Messages with values: ``{name}`` stands for a value, which is kept (and translated, if it
# is a message itself).
FRENCH_PATTERNS = {
    "Reset failed tasks: {count}": "Tâches échouées réinitialisées : {count}",
    "Deleted tasks: {count}": "Tâches supprimées : {count}",
    "Assignments taken back: {count}": "Attributions reprises : {count}",
    "Chain copy of task #{task}": "Copie en chaîne de la tâche n° {task}",
    "Submitted by {actor}": "Soumise par {actor}",
    "Assigned to worker #{worker}": "Attribuée au travailleur n° {worker}",
    "Kept alive by worker #{worker}": "Prolongée par le travailleur n° {worker}",
    "Released {result} by worker #{worker}: {outcome}, verification {verification}": "Rendue {result} par le travailleur n° {worker} : {outcome}, vérification {verification}",  # noqa: E501
    "Assignment of worker #{worker} expired": "Attribution au travailleur n° {worker} expirée",
    "worker:{id}": "travailleur n° {id}",
    "manager:{id}": "gestionnaire n° {id}",
    "{name} must be a whole number": "{name} doit être un nombre entier",
    "{name} must be a number": "{name} doit être un nombre",
    "{name} must be between {low} and {high}": "{name} doit être entre {low} et {high}",
    "{name} must be zero or more": "{name} doit être positif ou nul",
    "Invalid project: {reason}": "Projet invalide : {reason}",
    "Invalid register request: a username of {low} to {high} bytes and a password of {plow} to {phigh} bytes": "Inscription invalide : un nom d'utilisateur de {low} à {high} octets et un mot de passe de {plow} à {phigh} octets",  # noqa: E501
    "Could not parse request: {why}": "Requête illisible : {why}",
}

# The task browser and the attempts of a task (kept apart: the lists grow in separate work).
FRENCH_TASKS = {
    "Tasks": "Tâches",
    "State": "État",
    "Every live task": "Toutes les tâches en cours",
    "Recipe contains": "La recette contient",
    "Priority from": "Priorité de",
    "Priority to": "Priorité jusqu'à",
    "Submitted to": "Soumises jusqu'au",
    "Page": "Page",
    "Rows per page": "Lignes par page",
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

# The task browser's refusals of a filter (after "Could not parse request: ").
FRENCH_TASK_PATTERNS = {
    "{name} must be an integer from {low} to {high}": "{name} doit être un entier de {low} à {high}",  # noqa: E501
    "{name} must be one of {values}": "{name} doit valoir l'une de ces valeurs : {values}",
    "{name} is not a parameter (expected one of {names})": "{name} n'est pas un paramètre (attendus : {names})",  # noqa: E501
    "a parameter is repeated": "un paramètre est répété",
    "{name} is longer than {count} characters": "{name} dépasse {count} caractères",
    "{name} must be a time after 1970 (Unix seconds or ISO 8601)": "{name} doit être une heure après 1970 (secondes Unix ou ISO 8601)",  # noqa: E501
    "{name} must be Unix seconds or an ISO 8601 time (2026-12-08T02:50)": "{name} doit être en secondes Unix ou une heure ISO 8601 (2026-12-08T02:50)",  # noqa: E501
    "Invalid cursor: take it from the previous page's `next`, with the same sort": "Curseur invalide : reprenez celui de la page précédente, avec le même tri",  # noqa: E501
}

# Actions on tasks (tracker/ui/views/task_actions.py); texts with ``{n}`` are formatted after
# they are translated.
FRENCH_TASK_ACTIONS = {
    "Retry": "Relancer",
    "Take back": "Reprendre",
    "Set priority": "Changer la priorité",
    "Back": "Retour",
    "No task to act on.": "Aucune tâche à traiter.",
    "{n} failed tasks go back to the queue now, their attempts counted from zero.": "{n} tâches échouées retournent dans la file dès maintenant, leurs tentatives comptées de zéro.",  # noqa: E501
    "{n} queued tasks will be deleted. This cannot be undone.": "{n} tâches en file seront supprimées. C'est irréversible.",  # noqa: E501
    "{n} queued tasks will wait at priority {priority}.": "{n} tâches en file attendront avec la priorité {priority}.",  # noqa: E501
    "{n} assigned tasks are taken back from their workers and queued again.": "{n} tâches attribuées sont reprises à leurs travailleurs et remises dans la file.",  # noqa: E501
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
    "Unknown action": "Action inconnue",
    "Priority changed by a manager": "Priorité changée par un gestionnaire",
}

CATALOGUES = {"en": {}, "fr": {**FRENCH, **FRENCH_TASKS, **FRENCH_TASK_ACTIONS}}
PATTERNS = {"en": {}, "fr": {**FRENCH_PATTERNS, **FRENCH_TASK_PATTERNS}}


def pattern(english: str) -> re.Pattern[str]:
    """The messages an English pattern stands for (``{name}``: any text)."""
    parts = re.split(r"\{(\w+)\}", english)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                              for i, part in enumerate(parts)))  # fmt: skip


_COMPILED = {lang: [(pattern(english), french) for english, french in found.items()]
             for lang, found in PATTERNS.items()}  # fmt: skip


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
    catalogue, patterns = CATALOGUES.get(lang, {}), _COMPILED.get(lang, [])

    def translate(text: str) -> str:
        if text in catalogue or not patterns:
            return catalogue.get(text, text)
        for english, french in patterns:
            if found := english.fullmatch(text):
                return french.format(**{k: translate(v) for k, v in found.groupdict().items()})
        return text

    return translate
