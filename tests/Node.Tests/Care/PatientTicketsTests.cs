using Midia.Node.Care;

namespace Midia.Node.Tests.Care;

/// <summary>Sealed tickets: only the issuing process opens them, unaltered, until they expire.</summary>
public sealed class PatientTicketsTests
{
    sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void A_ticket_opens_to_what_it_was_issued_for_and_reveals_none_of_it_on_its_face()
    {
        var clock = new Clock(new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero));
        var tickets = new PatientTickets(clock);
        const string linkage = "k3Jd9sLq0wZ_pseudonym-of-43-characters-xxxx";

        var (ticket, expires) = tickets.Issue(42, linkage, "Dr Clara Clinician", "erlangen");

        Assert.Equal(clock.Now + PatientTickets.Lifetime, expires);
        Assert.Equal(new PatientTicket(42, linkage, "Dr Clara Clinician", "erlangen", expires), tickets.Open(ticket));
        Assert.DoesNotContain("erlangen", ticket);
        Assert.DoesNotContain(linkage[..10], ticket);
        Assert.Matches("^[A-Za-z0-9_-]+$", ticket);
        // Each issue is sealed with a fresh nonce.
        Assert.NotEqual(ticket, tickets.Issue(42, linkage, "Dr Clara Clinician", "erlangen").Ticket);
    }

    [Fact]
    public void An_altered_or_foreign_ticket_does_not_open()
    {
        var tickets = new PatientTickets();
        var (ticket, _) = tickets.Issue(7, "linkage", "Dr A", "munich");

        for (var i = 0; i < ticket.Length; i += 7)
        {
            var altered = ticket[..i] + (ticket[i] == 'A' ? 'B' : 'A') + ticket[(i + 1)..];
            Assert.Null(tickets.Open(altered));
        }
        Assert.Null(new PatientTickets().Open(ticket));    // another process (or a restart): another key
        Assert.Null(tickets.Open("not a ticket!"));
        Assert.Null(tickets.Open(""));
    }

    [Fact]
    public void A_ticket_expires_after_its_lifetime()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch.AddYears(56));
        var tickets = new PatientTickets(clock);
        var opened = tickets.Open(tickets.Issue(1, "l", "c", "s").Ticket)!;

        clock.Now += PatientTickets.Lifetime - TimeSpan.FromSeconds(1);
        Assert.False(tickets.Expired(opened));
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.True(tickets.Expired(opened));
    }
}
