namespace Fovea.Tests.Kernels;

/// <summary>
/// Workers that park once their spin runs out, and wake for the next call. Alone in their collection: a call
/// made while another test holds the workers runs inline, and a concurrent fork keeps workers from parking.
/// </summary>
[Collection(nameof(ForkJoinParkingTests))]
public class ForkJoinParkingTests
{
    /// <summary>Waits until every worker is parked at the same moment.</summary>
    private static void WaitUntilAllWorkersPark()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ForkJoin.ParkedWorkers < ForkJoin.Workers && DateTime.UtcNow < deadline) Thread.Sleep(1);
        Assert.Equal(ForkJoin.Workers, ForkJoin.ParkedWorkers);
    }

    [Fact]
    public void ACallWakesParkedWorkers()
    {
        ForkJoinTests.OnOwnThread(2, () =>
        {
            for (int call = 0; call < 10; call++)
            {
                WaitUntilAllWorkersPark();
                // Each chunk waits for the other to start, so the caller cannot run both: a worker must wake.
                using var bothStarted = new CountdownEvent(2);
                bool[] met = new bool[2];
                ForkJoin.For(2, (start, _) =>
                {
                    bothStarted.Signal();
                    met[start] = bothStarted.Wait(TimeSpan.FromSeconds(10));
                });
                Assert.Equal([true, true], met);
            }
        });
    }

    [Fact]
    public void WorkersStayUnparkedWhileAWarmScopeIsOpenAndParkAfterIt()
    {
        ForkJoinTests.OnOwnThread(2, () => ForkJoin.For(2, static (_, _) => { }));
        WaitUntilAllWorkersPark();
        int threads = ForkJoin.Workers + 1;
        using (ForkJoin.StayWarm())
        {
            ForkJoinTests.OnOwnThread(threads, () =>
            {
                // As above: each chunk waits for all the others to start, so every parked worker must wake and run one.
                using var allStarted = new CountdownEvent(threads);
                ForkJoin.For(threads, (_, _) =>
                {
                    allStarted.Signal();
                    allStarted.Wait(TimeSpan.FromSeconds(10));
                });
            });
            // A hundred spins' worth of idling: without the scope the worker parks after one.
            Thread.Sleep(100 * ForkJoin.SpinMicroseconds / 1000);
            Assert.Equal(0, ForkJoin.ParkedWorkers);
        }
        WaitUntilAllWorkersPark();
    }

    [Fact]
    public void IdleWorkersStopSpinningAndPark()
    {
        ForkJoinTests.OnOwnThread(2, () => ForkJoin.For(2, static (_, _) => { }));
        WaitUntilAllWorkersPark();
    }
}

[CollectionDefinition(nameof(ForkJoinParkingTests), DisableParallelization = true)]
public class ForkJoinParkingCollection;
