"""What the read benchmarks ask for: the names the loader gives creators, and the paths of the
roster reads (bench/api_load.py under gunicorn, bench/api_cpu.py in-process). No import of the
app here, so that bench/api_cpu.py can measure another checkout's app with the same mix."""

from __future__ import annotations

FIRST = [
    "Lina",
    "Hugo",
    "Chloe",
    "Yanis",
    "Ines",
    "Lucas",
    "Maya",
    "Noah",
    "Jade",
    "Sacha",
    "Zoe",
    "Adam",
    "Emma",
    "Leo",
    "Sofia",
    "Mateo",
    "Aiko",
    "Kenji",
    "Jiwoo",
    "Minjun",
    "Ana",
    "Joao",
    "Greta",
    "Felix",
    "Olivia",
    "Liam",
    "Amara",
    "Tariq",
    "Nora",
    "Elias",
    "Mila",
    "Omar",
    "Clara",
    "Iris",
    "Theo",
    "Lea",
    "Nils",
    "Ruth",
    "Kai",
    "Ada",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Francois",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guerin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clement",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Gerard",
    "Nguyen",
    "Boyer",
    "Denis",
    "Lemaire",
    "Duval",
    "Joly",
    "Gautier",
    "Roger",
]


def read_paths(ids: list[int], managers: list[int]) -> dict:
    """The app's endpoints this benchmark reads, each a function of a `random.Random` giving the
    next path to ask for."""
    # "A filter and a sort", on the first pages, as people page through a roster.
    roster_queries = [
        "country=FR&sort=display_name",
        "niche=cooking&sort=-created_at",
        "status=active&country=US&sort=-updated_at",
        "manager_id={manager}&sort=display_name",
    ]
    # What people type to find someone: a full name, or the start of a handle.
    searches = [f"{first} {last}".lower().replace(" ", "%20") for first in FIRST for last in LAST[::7]]
    searches += [f"{first}.{last}{digit}".lower() for first in FIRST[::3] for last in LAST[::5] for digit in "123"]
    return {
        "who am I": lambda rng: "/api/v1/users/me",
        "roster list": lambda rng: (
            "/api/v1/creators?"
            + rng.choice(roster_queries).format(manager=rng.choice(managers))
            + f"&page={rng.randint(1, 3)}"
        ),
        "search q": lambda rng: f"/api/v1/creators?q={rng.choice(searches)}",
        "creator detail": lambda rng: f"/api/v1/creators/{rng.choice(ids)}",
    }
