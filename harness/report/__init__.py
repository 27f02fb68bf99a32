"""Reports over evaluate artifacts: the leaderboard (`sca leaderboard`) and the regression gate (`sca regress`)."""
