namespace Midia.Cli.Dev.Synth;

/// <summary>Common German given and family names, the raw material of synthetic people.</summary>
public static class GermanNames
{
    public static readonly string[] Female =
    [
        "Anna", "Maria", "Ursula", "Monika", "Petra", "Elisabeth", "Sabine", "Renate", "Helga", "Karin",
        "Brigitte", "Ingrid", "Erika", "Andrea", "Gisela", "Claudia", "Susanne", "Gabriele", "Christa", "Christine",
        "Hildegard", "Birgit", "Barbara", "Julia", "Stefanie", "Nicole", "Katharina", "Sandra", "Martina", "Heike",
        "Lisa", "Laura", "Sarah", "Lena", "Lea", "Hannah", "Sophie", "Emma", "Mia", "Leonie",
        "Johanna", "Marie", "Charlotte", "Clara", "Franziska", "Melanie", "Tanja", "Anja", "Silke", "Kerstin",
        "Jutta", "Gertrud", "Waltraud", "Irmgard", "Ilse", "Edith", "Margarete", "Rosemarie", "Doris", "Bärbel",
        "Jana", "Nadine", "Simone", "Daniela", "Katrin", "Bettina", "Cornelia", "Dagmar", "Annette", "Angelika",
        "Marlene", "Greta", "Frieda", "Ida", "Paula", "Luisa", "Amelie", "Carolin", "Vanessa", "Jessica",
    ];

    public static readonly string[] Male =
    [
        "Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen", "Günter", "Stefan", "Christian",
        "Uwe", "Werner", "Horst", "Frank", "Dieter", "Manfred", "Gerhard", "Hans", "Bernd", "Torsten",
        "Martin", "Matthias", "Markus", "Helmut", "Heinz", "Walter", "Rolf", "Joachim", "Ralf", "Sven",
        "Alexander", "Jan", "Tobias", "Daniel", "Sebastian", "Florian", "Tim", "Lukas", "Jonas", "Leon",
        "Felix", "Paul", "Maximilian", "Elias", "Noah", "Ben", "Finn", "Moritz", "Jakob", "Niklas",
        "Karl", "Friedrich", "Wilhelm", "Ernst", "Otto", "Kurt", "Herbert", "Josef", "Georg", "Rainer",
        "Dirk", "Holger", "Jens", "Kai", "Lars", "Oliver", "Patrick", "Philipp", "Simon", "Dominik",
        "Fabian", "Benedikt", "Johannes", "Konrad", "Anton", "Emil", "Theo", "Vincent", "Julian", "David",
    ];

    public static readonly string[] Family =
    [
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
        "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
        "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
        "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
        "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
        "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
        "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
        "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich",
        "Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl",
        "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer",
        "Ernst", "Lindner", "Hübner", "Kramer", "Franz", "Jansen", "Peter", "Hansen", "Götz", "Wenzel",
        "Seifert", "Paul", "Riedel", "Kuhlmann", "Böttcher", "Lindemann", "Voß", "Stahl", "Fiedler", "Brückner",
        "Hauser", "Reuter", "Kirchner", "Nowak", "Kowalski", "Yilmaz", "Kaya", "Demir", "Popescu", "Ivanov",
        "Oswald", "Eder", "Wimmer", "Gruber", "Brunner", "Steiner", "Moser", "Hofer", "Reiter", "Lechner",
        "Auer", "Egger", "Pichler", "Berg", "Marx", "Kolb", "Sander", "Thiel", "Ulrich", "Wendt",
    ];
}
