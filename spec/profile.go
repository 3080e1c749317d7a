package spec

import (
	_ "embed"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Profile is a contract a target can be judged against: an OpenAPI document plus the few facts
// a check needs that a schema cannot say. Checks read these facts; none tests a profile's name.
type Profile struct {
	Name  string // "preview-2017", "mde": what --profile takes
	Title string
	// BasePath is how a target's base URL ends when it serves this contract.
	BasePath string
	// Hosts are the Microsoft hosts that serve this contract (a target on one is production).
	Hosts []string
	// UpdateTime is the MachineAction property that says when the action last changed.
	UpdateTime string
	// OtherMethod is what the contract answers another HTTP method on the operation's path with.
	OtherMethod []int
	// InitialStatuses are the statuses a new action may have.
	InitialStatuses []string
	// AppPermission is the application permission (a token's roles) that admits a caller; ""
	// when the contract admits users only.
	AppPermission string
	// Source says where the document came from: "embedded", or the file given with --spec.
	Source string

	document []byte
	contract func() (*Contract, error)
}

var (
	//go:embed preview-2017.yaml
	previewDocument []byte
	//go:embed mde.yaml
	mdeDocument []byte
)

// The embedded profiles. Each parses its document once per process.
var (
	Preview2017 = embeddedProfile(Profile{
		Name: "preview-2017", Title: "Windows Defender ATP preview API of 2017 (the seed)", BasePath: "/testwdatppreview",
		Hosts: []string{"graph.microsoft.com"}, UpdateTime: "lastUpdateTimeUtc", OtherMethod: []int{405},
		InitialStatuses: []string{"Pending", "InProgress"},
	}, previewDocument)
	MDE = embeddedProfile(Profile{
		Name: "mde", Title: "Microsoft Defender for Endpoint API (today)", BasePath: "/api",
		Hosts: []string{"api.security.microsoft.com", "api.securitycenter.microsoft.com", "api-gcc.securitycenter.microsoft.us",
			"api-gov.securitycenter.microsoft.us", "api.securitycenter.microsoft.us"},
		UpdateTime: "lastUpdateDateTimeUtc", OtherMethod: []int{404, 405},
		InitialStatuses: []string{"Pending", "InProgress"}, AppPermission: "Machine.CollectForensics",
	}, mdeDocument)
)

func embeddedProfile(p Profile, doc []byte) Profile {
	p.Source, p.document = "embedded", doc
	p.contract = sync.OnceValues(func() (*Contract, error) { return Parse(doc) })
	return p
}

// Profiles lists the embedded profiles.
func Profiles() []Profile { return []Profile{Preview2017, MDE} }

// ProfileNames lists the embedded profiles' names, for messages.
func ProfileNames() []string {
	var names []string
	for _, p := range Profiles() {
		names = append(names, p.Name)
	}
	return names
}

// LookupProfile finds an embedded profile by name.
func LookupProfile(name string) (Profile, error) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("no profile %q: the profiles are %s", name, strings.Join(ProfileNames(), " and "))
}

// ProfileFor tells the profile a target's base URL speaks: a base path ending in a profile's
// BasePath, or a host of a profile. Anything else is an error that names the profiles.
func ProfileFor(target string) (Profile, error) {
	u, err := url.Parse(target)
	if err != nil {
		return Profile{}, fmt.Errorf("target %q: %w", target, err)
	}
	path := strings.TrimSuffix(u.Path, "/")
	for _, p := range Profiles() {
		if strings.HasSuffix(path, p.BasePath) || slices.Contains(p.Hosts, strings.ToLower(u.Hostname())) {
			return p, nil
		}
	}
	var hints []string
	for _, p := range Profiles() {
		hints = append(hints, fmt.Sprintf("%s (a base path ending in %s: %s)", p.Name, p.BasePath, p.Title))
	}
	return Profile{}, fmt.Errorf("cannot tell which contract %s speaks: give --profile (CIP_PROFILE): %s", target, strings.Join(hints, ", or "))
}

// Contract is the profile's parsed document.
func (p Profile) Contract() (*Contract, error) {
	if p.contract == nil {
		return nil, fmt.Errorf("profile %q has no document", p.Name)
	}
	c, err := p.contract()
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	return c, nil
}

// Collect is the profile's collectInvestigationPackage operation.
func (p Profile) Collect() (*Operation, error) {
	c, err := p.Contract()
	if err != nil {
		return nil, err
	}
	return c.Operation(OperationID)
}

// Document is the profile's OpenAPI document, as written.
func (p Profile) Document() []byte { return slices.Clone(p.document) }

// WithDocument is the profile judged against another document for the same operation (a
// user's --spec): the schema-derived checks follow it. A document kin-openapi rejects, or one
// without the operation, is an error that says what is missing.
func (p Profile) WithDocument(source string, data []byte) (Profile, error) {
	c, err := Parse(data)
	if err != nil {
		return Profile{}, fmt.Errorf("--spec %s: %w", source, err)
	}
	if _, err := c.Operation(OperationID); err != nil {
		return Profile{}, fmt.Errorf("--spec %s: no operation with operationId %q (POST /machines/{id}/collectInvestigationPackage): the checks judge that operation", source, OperationID)
	}
	p.Source, p.document = source, slices.Clone(data)
	p.contract = func() (*Contract, error) { return c, nil }
	return p, nil
}
