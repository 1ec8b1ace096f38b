; Inno Setup script for the Windows installer of LesionLens.
; NOT TESTED HERE (the team's build machine is Linux). Recipe, on a Windows machine:
;   py -3.11 -m venv .venv
;   .venv\Scripts\pip install -e .[package] --extra-index-url https://download.pytorch.org/whl/cpu
;   .venv\Scripts\python -c "from core.notices import write_notices; write_notices('build/THIRD_PARTY_NOTICES.txt')"
;   .venv\Scripts\pyinstaller --noconfirm --clean --distpath build\dist --workpath build\work packaging\lesionlens.spec
;   build\dist\LesionLens\LesionLens.exe --self-test
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" packaging\windows\lesionlens.iss
; The spec imports torch before Qt (packaging/entry.py): both ship OpenMP / MSVC runtime DLLs
; and torch's must be loaded first. For a Windows icon, convert resources\icon.png to .ico
; and pass it as SetupIconFile / in the spec's EXE(icon=...).

#define AppName "LesionLens"
#define AppVersion "0.1.0"

[Setup]
AppId={{6E0C1D7B-4C55-4C8F-9A1E-3B7A2F5D9C01}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=LesionLens
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
OutputDir=..\..\build
OutputBaseFilename=LesionLens-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile=..\..\build\THIRD_PARTY_NOTICES.txt
PrivilegesRequiredOverridesAllowed=dialog

[Files]
Source: "..\..\build\dist\LesionLens\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\LesionLens.exe"
Name: "{group}\{#AppName} self-test"; Filename: "{app}\LesionLens.exe"; Parameters: "--self-test"

[Run]
Filename: "{app}\LesionLens.exe"; Parameters: "--self-test"; Flags: runhidden waituntilterminated; StatusMsg: "Checking the installation..."
