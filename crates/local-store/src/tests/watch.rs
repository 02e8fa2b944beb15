//! Tests of the watcher against a real file system, in real time: every
//! wait is bounded polling of the update channel, never a fixed sleep.

use super::*;
use model::{Project, Todo, TodoStatus};
use std::fs;

/// How long a test waits for an update before failing.
const PATIENCE: Duration = Duration::from_secs(5);

struct Fixture {
    _tmp: tempfile::TempDir,
    /// Canonical temp dir.
    base: PathBuf,
    rx: mpsc::Receiver<PreparationUpdate>,
    cancel: CancellationToken,
    watcher: PreparationWatcher,
}

impl Fixture {
    /// Lays out files with `setup`, then starts a watcher with the config
    /// `cfg` builds from the base directory.
    fn start(setup: impl FnOnce(&Path), cfg: impl FnOnce(&Path) -> ProjectsConfig) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(tmp.path()).unwrap();
        setup(&base);
        let (tx, rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        let watcher =
            PreparationWatcher::start("alpha".into(), cfg(&base), tx, cancel.clone()).unwrap();
        Self {
            _tmp: tmp,
            base,
            rx,
            cancel,
            watcher,
        }
    }

    fn path(&self, rel: &str) -> String {
        self.base.join(rel).to_str().unwrap().to_owned()
    }

    /// The next update, whatever it is.
    async fn next(&mut self) -> PreparationUpdate {
        tokio::time::timeout(PATIENCE, self.rx.recv())
            .await
            .expect("no update in time")
            .expect("update channel closed")
    }

    /// The next update satisfying `pred`, skipping others.
    async fn wait_for(
        &mut self,
        what: &str,
        pred: impl Fn(&PreparationUpdate) -> bool,
    ) -> PreparationUpdate {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(u)) if pred(&u) => return u,
                Ok(Some(_)) => {}
                Ok(None) => panic!("update channel closed waiting for {what}"),
                Err(_) => panic!("no {what} within {PATIENCE:?}"),
            }
        }
    }

    async fn todos_of(&mut self, project: &str) -> Vec<Todo> {
        let want = self.path(project);
        match self
            .wait_for("todos update", |u| {
                matches!(u, PreparationUpdate::Todos { project_path, .. } if *project_path == want)
            })
            .await
        {
            PreparationUpdate::Todos { todos, .. } => todos,
            PreparationUpdate::Projects(_) => unreachable!(),
        }
    }

    async fn projects(&mut self) -> Vec<Project> {
        match self
            .wait_for("projects update", |u| {
                matches!(u, PreparationUpdate::Projects(_))
            })
            .await
        {
            PreparationUpdate::Projects(p) => p,
            PreparationUpdate::Todos { .. } => unreachable!(),
        }
    }
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, text).unwrap();
}

/// A root holding one git project, `proj`, with a roadmap.
fn one_project(base: &Path) {
    fs::create_dir_all(base.join("root/proj/.git")).unwrap();
    write(&base.join("root/proj/todos/roadmap.md"), "- [ ] first\n");
}

fn root_cfg(base: &Path) -> ProjectsConfig {
    ProjectsConfig {
        projects: vec![],
        roots: vec![base.join("root")],
        ..ProjectsConfig::default()
    }
}

fn slugs(todos: &[Todo]) -> Vec<(&str, TodoStatus)> {
    todos.iter().map(|t| (t.slug.as_str(), t.status)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roadmap_edit_is_reported() {
    let mut f = Fixture::start(one_project, root_cfg);
    let proj = f.path("root/proj");
    let (projects, todos) = f.watcher.initial();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].path, proj);
    assert_eq!(todos.len(), 1);
    assert_eq!(todos[0].0, proj);
    assert_eq!(slugs(&todos[0].1), vec![("first", TodoStatus::Pending)]);

    write(
        &f.base.join("root/proj/todos/roadmap.md"),
        "- [x] first\n- [>] second\n  doing it\n",
    );
    let todos = f.todos_of("root/proj").await;
    assert_eq!(
        slugs(&todos),
        vec![
            ("first", TodoStatus::Done),
            ("second", TodoStatus::InProgress)
        ]
    );
    assert_eq!(todos[1].description.as_deref(), Some("doing it"));
    assert!(
        todos
            .iter()
            .all(|t| t.project_path == proj && t.computer == "alpha")
    );

    // A requirements file deep in todos/ flips the flag.
    write(&f.base.join("root/proj/todos/second/requirements.md"), "r");
    let todos = f.todos_of("root/proj").await;
    assert!(todos[1].has_requirements);
    f.watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_content_is_not_reported_again() {
    let mut f = Fixture::start(one_project, root_cfg);
    let roadmap = f.base.join("root/proj/todos/roadmap.md");
    // Same content rewritten: an event, but no change.
    write(&roadmap, "- [ ] first\n");
    // An unrelated file in the project: not watched as a change.
    write(&f.base.join("root/proj/notes.txt"), "x");
    // Then a real change: it must be the very next update.
    write(&roadmap, "- [.] first\n");
    match f.next().await {
        PreparationUpdate::Todos { todos, .. } => {
            assert_eq!(slugs(&todos), vec![("first", TodoStatus::Ready)]);
        }
        other => panic!("unexpected {other:?}"),
    }
    f.watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_come_and_go() {
    let mut f = Fixture::start(one_project, root_cfg);

    // A new git repository under the root becomes a project.
    fs::create_dir_all(f.base.join("root/newer")).unwrap();
    fs::create_dir_all(f.base.join("root/newer/.git")).unwrap();
    let projects = f.projects().await;
    let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["newer", "proj"]);

    // Its roadmap, written later, is reported.
    write(&f.base.join("root/newer/todos/roadmap.md"), "- [ ] n1\n");
    let todos = f.todos_of("root/newer").await;
    assert_eq!(slugs(&todos), vec![("n1", TodoStatus::Pending)]);

    // A README edit changes the description.
    write(
        &f.base.join("root/newer/README.md"),
        "# Newer\n\nFresh words.\n",
    );
    let projects = f.projects().await;
    assert_eq!(projects[0].description.as_deref(), Some("Fresh words."));

    // Removing a project reports the shorter list and clears its todos.
    fs::remove_dir_all(f.base.join("root/proj")).unwrap();
    let projects = f.projects().await;
    assert_eq!(projects.len(), 1);
    assert!(f.todos_of("root/proj").await.is_empty());
    f.watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_project_is_found_once_created() {
    let mut f = Fixture::start(
        |_| {},
        |base| ProjectsConfig {
            projects: vec![base.join("later")],
            roots: vec![],
            ..ProjectsConfig::default()
        },
    );
    assert!(f.watcher.initial().0.is_empty());
    fs::create_dir_all(f.base.join("later")).unwrap();
    let projects = f.projects().await;
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].path, f.path("later"));
    // And it is watched from then on.
    write(&f.base.join("later/todos/roadmap.md"), "- [ ] x\n");
    assert_eq!(f.todos_of("later").await.len(), 1);
    f.watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_task() {
    let f = Fixture::start(one_project, root_cfg);
    f.cancel.cancel();
    tokio::time::timeout(PATIENCE, f.watcher.stop())
        .await
        .expect("watcher did not stop");
    // The sender went with the task: the channel reports closed.
    let mut rx = f.rx;
    assert!(
        tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let (tx, _rx) = mpsc::channel(1);
    let err = PreparationWatcher::start(
        "alpha".into(),
        ProjectsConfig::default(),
        tx,
        CancellationToken::new(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NoRuntime { .. }), "{err}");
}

#[test]
fn scan_all_reads_projects_and_todos() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::canonicalize(tmp.path()).unwrap();
    one_project(&base);
    let (projects, todos) = scan_all("alpha", &root_cfg(&base));
    assert_eq!(projects.len(), 1);
    assert_eq!(todos.len(), 1);
    assert_eq!(todos[0].0, projects[0].path);
    assert_eq!(slugs(&todos[0].1), vec![("first", TodoStatus::Pending)]);
}

/// The debouncing task on a hand-fed event channel, with a real engine
/// over `base/proj`. The roadmap on disk already differs from what the
/// engine last reported, so the first burst produces an update.
struct Rig {
    raw_tx: mpsc::Sender<Raw>,
    rx: mpsc::Receiver<PreparationUpdate>,
    roadmap: PathBuf,
    stop: CancellationToken,
    task: JoinHandle<Result<(), Error>>,
}

impl Rig {
    fn start(base: &Path) -> Self {
        one_project(base);
        let cfg = ProjectsConfig {
            projects: vec![base.join("root/proj")],
            roots: vec![],
            ..ProjectsConfig::default()
        };
        let watcher = notify::recommended_watcher(|_: notify::Result<notify::Event>| {}).unwrap();
        let mut engine = Engine::new("alpha".into(), cfg, watcher);
        engine.initial_scan();
        let roadmap = base.join("root/proj/todos/roadmap.md");
        write(&roadmap, "- [x] first\n");
        let (raw_tx, raw_rx) = mpsc::channel(16);
        let (tx, rx) = mpsc::channel(16);
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(
            engine,
            raw_rx,
            Arc::new(AtomicBool::new(false)),
            tx,
            stop.clone(),
        ));
        Self {
            raw_tx,
            rx,
            roadmap,
            stop,
            task,
        }
    }

    async fn touch(&self) {
        self.raw_tx.send(modified(&self.roadmap)).await.unwrap();
    }

    async fn finish(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

fn modified(path: &Path) -> Raw {
    use notify::event::DataChange;
    Raw::Event(
        notify::Event::new(EventKind::Modify(ModifyKind::Data(DataChange::Content)))
            .add_path(path.to_path_buf()),
    )
}

#[tokio::test(start_paused = true)]
async fn a_burst_is_processed_once_it_is_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rig = Rig::start(&fs::canonicalize(tmp.path()).unwrap());
    let t0 = Instant::now();
    rig.touch().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    rig.touch().await;
    // Nothing else is pending, so paused time moves only to the task's
    // own deadline: the update comes QUIET after the last event.
    let update = rig.rx.recv().await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_millis(100) + QUIET);
    match update {
        PreparationUpdate::Todos { todos, .. } => {
            assert_eq!(slugs(&todos), vec![("first", TodoStatus::Done)]);
        }
        other => panic!("unexpected {other:?}"),
    }
    rig.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_continuous_burst_waits_at_most_max_delay() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rig = Rig::start(&fs::canonicalize(tmp.path()).unwrap());
    let t0 = Instant::now();
    let step = QUIET / 2;
    while t0.elapsed() + step < MAX_DELAY {
        rig.touch().await;
        tokio::time::sleep(step).await;
    }
    rig.touch().await;
    rig.rx.recv().await.unwrap();
    assert_eq!(t0.elapsed(), MAX_DELAY);
    rig.finish().await;
}
